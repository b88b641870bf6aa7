/**
 * @archbench/decision-cli — the pure core (answers, scoring, sensitivity, ADR and HTML rendering)
 * and the CLI entry, for tools that want to embed the decision rather than shell out.
 * @example
 * import { score, analyseSensitivity, MODEL_V1, NO_EVIDENCE, parseAnswers } from '@archbench/decision-cli';
 * const answers = parseAnswers(YAML.parse(text));
 * const result = score(answers, NO_EVIDENCE, { model: MODEL_V1 });
 */
export { ANSWERS_VERSION, AnswersSchema, DEFAULT_ANSWERS, answersJsonSchema, parseAnswers } from './core/answers';
export type { Answers } from './core/answers';
export { MODEL_V1, ModelSchema, OPTION_IDS, optionTitle } from './core/model';
export type { Model, OptionId } from './core/model';
export { NO_EVIDENCE, assessCost, assessLatency, evidenceFromComparison, mergeEvidence } from './core/evidence';
export type { ComparisonInput, Evidence, Prices, ScenarioEvidence, TopologyAssessment, TopologyEvidence } from './core/evidence';
export { parseK6Summary } from './core/k6';
export { score } from './core/scoring';
export type { CriterionScore, OptionScore, ScoreResult } from './core/scoring';
export { analyseSensitivity, describeFlip } from './core/sensitivity';
export type { Flip, Sensitivity } from './core/sensitivity';
export { buildConfirmation, checkConfirmation, extractConfirmation, renderConfirmationBlock } from './core/confirmation';
export type { Confirmation, ConfirmationCriterion, CriterionCheck } from './core/confirmation';
export { MADR_HEADINGS, parseAdr, renderDecisionAdr, renderIndex, renderTemplateAdr } from './core/adr';
export type { AdrEntry, DecisionAdrInput } from './core/adr';
export { renderHtmlReport } from './core/report-html';
export type { HtmlReportInput } from './core/report-html';
export { answersTemplate } from './core/template';
export { QUESTIONS } from './core/questions';
export { ConflictError, InputError, UsageError, VerificationFailedError } from './core/errors';
export { main } from './cli/main';
export type { CliIo } from './cli/main';
