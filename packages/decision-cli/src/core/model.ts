import { z } from 'zod';
import modelV1 from '../../model/v1.json' with { type: 'json' };

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

const Criterion = z
  .object({
    id: z.string(),
    title: z.string(),
    group: z.string(),
    answer: z.string().optional(),
    weight: z.number().positive(),
    evidence: z.enum(['latency', 'cost', 'processes', 'consistency']).optional(),
    weightBy: z.object({ answer: z.string(), factors: z.record(z.string(), z.number().nonnegative()) }).strict().optional(),
    why: z.string(),
    levels: z.array(Level).min(1),
  })
  .strict();

const Band = z.object({ max: z.number().optional(), min: z.number().optional(), fit: Fit }).strict();

export const ModelSchema = z
  .object({
    $comment: z.string().optional(),
    version: z.number().int().positive(),
    title: z.string(),
    scale: z.object({ min: z.literal(0), max: z.literal(5) }),
    options: z.array(
      z.object({ id: OptionId, title: z.string(), summary: z.string(), measuredAs: z.array(z.string()) }).strict(),
    ),
    tieOrder: z.array(OptionId),
    criteria: z.array(Criterion).min(1),
    evidence: z
      .object({
        rateTolerance: z.number().positive().max(1),
        maxErrorRate: z.number().min(0).max(1),
        latencyHeadroom: z.array(Band),
        latencyFailFit: Fit,
        costRatio: z.array(Band),
        processCount: z.array(Band),
        consistency: z.object({ clean: Fit, compensated: Fit, broken: Fit }).strict(),
      })
      .strict(),
    cost: z.object({ vcpuHourEur: z.number().nonnegative(), gbHourEur: z.number().nonnegative(), source: z.string() }).strict(),
    regressionAllowance: z.number().nonnegative(),
  })
  .strict();

/** A decision model: criteria, weights and how each option fits (see model/v1.json). */
export type Model = z.infer<typeof ModelSchema>;
export type ModelCriterion = Model['criteria'][number];
export type ModelLevel = ModelCriterion['levels'][number];
export type ModelBand = Model['evidence']['costRatio'][number];

/** The current model, validated when this module loads so a bad edit fails every test at once. */
export const MODEL_V1: Model = ModelSchema.parse(modelV1);

/** Every option in display order. */
export const OPTION_IDS: readonly OptionId[] = OptionId.options;

/** Title of an option, e.g. `Modular monolith`. */
export function optionTitle(model: Model, id: OptionId): string {
  return model.options.find((o) => o.id === id)?.title ?? id;
}
