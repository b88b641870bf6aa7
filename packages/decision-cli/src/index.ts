/**
 * @archbench/decision-cli — the pure core (answers, scoring, sensitivity, ADR and HTML rendering)
 * and the CLI entry, for tools that want to embed the decision rather than shell out.
 * @example
 * import { score, analyseSensitivity, CURRENT_MODEL, NO_EVIDENCE, parseAnswers } from '@archbench/decision-cli';
 * const answers = parseAnswers(YAML.parse(text));
 * const result = score(answers, NO_EVIDENCE, { model: CURRENT_MODEL });
 */
export { ANSWERS_VERSION, AnswersSchema, DEFAULT_ANSWERS, UNKNOWN, answersJsonSchema, parseAnswers } from './core/answers';
export type { Answers } from './core/answers';
export {
  CURRENT_MODEL,
  MODEL_V1,
  MODEL_V2,
  MODEL_V3,
  MODEL_V4,
  MODEL_V5,
  MODEL_VERSIONS,
  ModelSchema,
  OPTION_IDS,
  modelVersion,
  optionTitle,
} from './core/model';
export type { Model, OptionId } from './core/model';
export {
  NO_EVIDENCE,
  assessCost,
  assessLatency,
  assessMonthlyCost,
  combineEvidence,
  evidenceFromComparison,
  mergeEvidence,
  priceAssumptionLines,
  priceList,
  usd,
} from './core/evidence';
export type {
  ComparisonInput,
  CostFigures,
  Evidence,
  FaultEvidence,
  MonthlyCost,
  MonthlyCostLine,
  PriceItem,
  Prices,
  ScenarioEvidence,
  TopologyAssessment,
  TopologyEvidence,
} from './core/evidence';
export { parseK6Summary, readK6Evidence, type K6Evidence } from './core/k6';
export { score } from './core/scoring';
export type { CriterionScore, OptionScore, ScoreResult } from './core/scoring';
export { analyseSensitivity, assessConfidence, describeConfidence, describeFlip } from './core/sensitivity';
export type { Confidence, Flip, Sensitivity } from './core/sensitivity';
export { diffDecisions, renderDiff } from './core/diff';
export type { DecisionDiff } from './core/diff';
export { buildConfirmation, checkConfirmation, extractConfirmation, renderConfirmationBlock } from './core/confirmation';
export type { Confirmation, ConfirmationCriterion, CriterionCheck } from './core/confirmation';
export { MADR_HEADINGS, parseAdr, renderDecisionAdr, renderIndex, renderTemplateAdr } from './core/adr';
export type { AdrEntry, DecisionAdrInput } from './core/adr';
export { renderHtmlReport } from './core/report-html';
export type { HtmlReportInput } from './core/report-html';
export { answersTemplate } from './core/template';
export { QUESTIONS } from './core/questions';
export { ConflictError, InputError, UsageError, VerificationFailedError } from './core/errors';
export { EXIT_NO_EVIDENCE, main } from './cli/main';
export type { CliIo } from './cli/main';
