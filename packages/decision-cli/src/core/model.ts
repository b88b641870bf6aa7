import { z } from 'zod';
import modelV1 from '../../model/v1.json' with { type: 'json' };
import modelV2 from '../../model/v2.json' with { type: 'json' };
import modelV3 from '../../model/v3.json' with { type: 'json' };
import modelV4 from '../../model/v4.json' with { type: 'json' };
import modelV5 from '../../model/v5.json' with { type: 'json' };

export const OptionId = z.enum(['modular-monolith', 'microservices', 'serverless', 'hybrid']);
/** The architecture options archbench scores. */
export type OptionId = z.infer<typeof OptionId>;

const Fit = z.number().min(0).max(5);
const Fits = z.object({ 'modular-monolith': Fit, microservices: Fit, serverless: Fit, hybrid: Fit }).strict();

const Level = z
  .object({
    label: z.string(),
    when: z.union([z.object({ max: z.number() }).strict(), z.object({ equals: z.string() }).strict()]).optional(),
    fit: Fits,
  })
  .strict();

const EvidenceKind = z.enum(['latency', 'cost', 'processes', 'consistency', 'failure-isolation', 'recovery']);
/** What a criterion reads from the measurements. */
export type EvidenceKind = z.infer<typeof EvidenceKind>;

const Criterion = z
  .object({
    id: z.string(),
    title: z.string(),
    group: z.string(),
    answer: z.string().optional(),
    weight: z.number().positive(),
    evidence: EvidenceKind.optional(),
    weightBy: z
      .object({ answer: z.string(), factors: z.record(z.string(), z.number().nonnegative()) })
      .strict()
      .optional(),
    why: z.string(),
    levels: z.array(Level).min(1),
  })
  .strict();

const Band = z.object({ max: z.number().optional(), min: z.number().optional(), fit: Fit }).strict();

/**
 * The scale of a measured process count by the value of an answer (v4: the criterion's own,
 * `team.platformMaturity`, the answer its prior levels depend on), so a measured count and the
 * prior share one scale.
 */
const ProcessCountScale = z
  .object({
    answer: z.string(),
    levels: z.record(z.string(), z.array(Band).min(1)),
    /**
     * `prior`: a topology billed per use (the cost model's `payPerUse`, or measured as billing
     * nothing at rest) runs on processes its platform operates, not the team: its count is not scored.
     */
    payPerUse: z.literal('prior').optional(),
  })
  .strict();

export const ModelSchema = z
  .object({
    $comment: z.string().optional(),
    version: z.number().int().positive(),
    title: z.string(),
    scale: z.object({ min: z.literal(0), max: z.literal(5) }),
    options: z.array(z.object({ id: OptionId, title: z.string(), summary: z.string(), measuredAs: z.array(z.string()) }).strict()),
    tieOrder: z.array(OptionId),
    criteria: z.array(Criterion).min(1),
    evidence: z
      .object({
        rateTolerance: z.number().positive().max(1),
        maxErrorRate: z.number().min(0).max(1),
        latencyHeadroom: z.array(Band),
        latencyFailFit: Fit,
        costRatio: z.array(Band),
        /** One scale (v1-v3), or one per value of an answer (v4). */
        processCount: z.union([z.array(Band), ProcessCountScale]),
        consistency: z.object({ clean: Fit, compensated: Fit, broken: Fit }).strict(),
        /**
         * How criteria whose measurement is only meaningful relative to other options (cost) are
         * scored: `best-measured` (v1: the cheapest measured option scores best, unmeasured options
         * keep their prior) or `all-or-prior` (v2: only when every option was measured; otherwise
         * the prior for every option, so measured and unmeasured options share one scale).
         */
        relative: z.enum(['best-measured', 'all-or-prior']).default('best-measured'),
        /** Worst availability of what did not fail, across fault experiments (min inclusive). */
        availability: z.array(Band).optional(),
        /** Worst time to recover after a fault, seconds (max inclusive). */
        recoverySeconds: z.array(Band).optional(),
        /**
         * A closed-model scenario above this multiple of the expected rate measured latency at
         * saturation, not at the expected rate: the latency verdict leaves it out and judges the
         * runs at about the expected rate (absent: v1, no distinction).
         */
        closedModelSaturation: z.number().min(1).optional(),
        /**
         * v5: a closed-model run above closedModelSaturation times the rate, within maxErrorRate and
         * with enough clients queued (see boundsRateFromAbove), bounds the p95 at the rate from
         * above. When only such runs reached the rate, a bound within the budget scores the better
         * of the prior and the bound's headroom, and such a variant can stand for its option by its
         * bound (see ADR 0015). Absent: saturated runs prove nothing either way (v2-v4).
         */
        saturatedUpperBound: z.boolean().optional(),
        /** Fit when a fault experiment never recovered. */
        neverRecoveredFit: Fit.optional(),
        /**
         * Evidence kinds for which figures measured on a local emulator of a platform (serverless
         * started by `pnpm compare`: one workerd process) do not count: such a topology scores
         * these criteria from the prior until a deployment is measured (v3). Absent: they count.
         */
        notFromEmulator: z.array(z.enum(['latency', 'failure-isolation', 'recovery'])).optional(),
      })
      .strict(),
    cost: z
      .object({
        vcpuHourEur: z.number().nonnegative(),
        gbHourEur: z.number().nonnegative(),
        source: z.string(),
        /** Monthly cost at the answers' load profile (v2); absent: cost per 1,000 orders (v1). */
        monthly: z
          .object({
            hoursPerMonth: z.number().positive(),
            /** Always-on capacity is sized for the peak at this CPU utilisation. */
            targetUtilisation: z.number().positive().max(1),
            /** Legacy (before the shared cost model): ignored; the price list's min-vcpu-per-process applies. */
            minVcpu: z.number().nonnegative().optional(),
            /** Busy hours a day by burstiness when the answers do not say. */
            busyHoursByBurstiness: z.record(z.string(), z.number().min(0).max(24)),
            /** Request rate outside the busy hours, as a share of the expected rate. */
            offHoursShareByBurstiness: z.record(z.string(), z.number().min(0).max(1)),
            /** Topologies billed per use (scale to zero) rather than for provisioned capacity. */
            payPerUse: z.array(z.string()),
            /** Legacy EUR prices (before the shared cost model): ignored; pay-per-use is priced by the shared price list. */
            payPerUseVcpuHourEur: z.number().nonnegative().optional(),
            payPerUseGbHourEur: z.number().nonnegative().optional(),
            perMillionRequestsEur: z.number().nonnegative().optional(),
            source: z.string(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    regressionAllowance: z.number().nonnegative(),
    /** Allowed growth of a measured p95 before `verify` fails (latency is noisier than CPU). */
    latencyRegressionAllowance: z.number().nonnegative().optional(),
    /** Results closer than this many points, or flipped by a one-step change, are too close to call. */
    confidence: z
      .object({
        /** A lead below this many points is too close to call. */
        marginPoints: z.number().nonnegative(),
        /** Below this lead, a flip by a one-step change of one answer (or by an unknown answer) also makes it too close. */
        flipMarginPoints: z.number().nonnegative(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A decision model: criteria, weights and how each option fits (see model/v1.json). */
export type Model = z.infer<typeof ModelSchema>;
export type ModelCriterion = Model['criteria'][number];
export type ModelLevel = ModelCriterion['levels'][number];
export type ModelBand = Model['evidence']['costRatio'][number];
/** Fit of an option from a criterion's level; `unknown` answers use the mean over the levels. */
export type Fits = Record<OptionId, number>;

/** Model version 1, validated when this module loads so a bad edit fails every test at once. */
export const MODEL_V1: Model = ModelSchema.parse(modelV1);
/** Model version 2: fair relative evidence, faults, monthly cost, large organisations. */
export const MODEL_V2: Model = ModelSchema.parse(modelV2);
/** Model version 3: v2, with a local emulator's latency and fault figures scored from the prior. */
export const MODEL_V3: Model = ModelSchema.parse(modelV3);
/** Model version 4: v3, with a measured process count scored on the prior's platform-maturity scale. */
export const MODEL_V4: Model = ModelSchema.parse(modelV4);
/** Model version 5 (current): v4, with a closed-model run at saturation counted as an upper bound on the p95 at the rate. */
export const MODEL_V5: Model = ModelSchema.parse(modelV5);
/** The model new decisions use. */
export const CURRENT_MODEL: Model = MODEL_V5;

const MODELS: ReadonlyMap<number, Model> = new Map([
  [1, MODEL_V1],
  [2, MODEL_V2],
  [3, MODEL_V3],
  [4, MODEL_V4],
  [5, MODEL_V5],
]);

/**
 * The model of a version, e.g. the one an ADR was decided with; undefined when unknown.
 * @example modelVersion(1) === MODEL_V1
 */
export function modelVersion(version: number): Model | undefined {
  return MODELS.get(version);
}

/** Versions this build can score with. */
export const MODEL_VERSIONS: readonly number[] = [...MODELS.keys()];

/**
 * Whether figures measured on a local emulator count for an evidence kind under this model.
 * @example emulatorCounts(MODEL_V3, 'latency') // false
 */
export function emulatorCounts(model: Model, kind: EvidenceKind): boolean {
  return !(model.evidence.notFromEmulator as readonly string[] | undefined)?.includes(kind);
}

/** Every option in display order. */
export const OPTION_IDS: readonly OptionId[] = OptionId.options;

/** Title of an option, e.g. `Modular monolith`. */
export function optionTitle(model: Model, id: OptionId): string {
  return model.options.find((o) => o.id === id)?.title ?? id;
}
