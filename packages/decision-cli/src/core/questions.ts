/** One questionnaire question: shared by the interactive prompts, the answers template and the ADR. */
export interface Question {
  /** Dotted path in the answers file. */
  path: string;
  group: QuestionGroup;
  message: string;
  help: string;
  kind: 'int' | 'number' | 'enum';
  /** Optional in the answers file (missing counts as unknown). */
  optional?: boolean;
  unit?: string;
  choices?: Array<{ value: string; name: string; description: string }>;
}

export type QuestionGroup = 'Team and organisation' | 'Domain' | 'Load' | 'Change' | 'Operations' | 'Cost' | 'Time to market' | 'Where you stand today';

export const QUESTION_GROUPS: readonly QuestionGroup[] = [
  'Team and organisation',
  'Domain',
  'Load',
  'Change',
  'Operations',
  'Cost',
  'Time to market',
  'Where you stand today',
];

/** The questionnaire, in the order it is asked. Choice values match the answers schema. */
export const QUESTIONS: readonly Question[] = [
  {
    path: 'team.teams',
    group: 'Team and organisation',
    kind: 'int',
    message: 'How many teams will build and run the system?',
    help: 'Count teams that would own a part of the system, not individuals.',
  },
  {
    path: 'team.engineers',
    group: 'Team and organisation',
    kind: 'int',
    message: 'How many engineers are in those teams?',
    help: 'Everyone who writes or operates the code.',
  },
  {
    path: 'team.onCall',
    group: 'Team and organisation',
    kind: 'enum',
    message: 'Who is on call when production breaks?',
    help: 'Distributed systems fail in more places; each service needs someone who answers the pager.',
    choices: [
      { value: 'none', name: 'Nobody (best effort)', description: 'No on-call rotation.' },
      { value: 'shared-rotation', name: 'One shared rotation', description: 'One rotation covers the whole system.' },
      { value: 'per-team', name: 'Each team for its own parts', description: 'Every team runs its own rotation.' },
    ],
  },
  {
    path: 'team.platformMaturity',
    group: 'Team and organisation',
    kind: 'enum',
    message: 'How mature is your delivery platform?',
    help: 'Self-service pipelines, service templates, managed databases and dashboards.',
    choices: [
      { value: 'none', name: 'None yet', description: 'Deploys and infrastructure are done by hand.' },
      { value: 'basic', name: 'Basic', description: 'CI/CD and some templates; new services take days to set up.' },
      { value: 'mature', name: 'Mature', description: 'A new service with pipeline, dashboards and alerts takes an hour.' },
    ],
  },
  {
    path: 'domain.boundedContexts',
    group: 'Domain',
    kind: 'int',
    message: 'How many bounded contexts does the domain have?',
    help: 'Areas with their own language and rules, e.g. catalog, orders, payments, shipping = 4.',
  },
  {
    path: 'domain.crossContextConsistency',
    group: 'Domain',
    kind: 'enum',
    message: 'How consistent must changes across contexts be?',
    help: 'E.g. must stock, payment and order status change in one step, or may they converge within seconds?',
    choices: [
      { value: 'strong', name: 'Strong: all or nothing', description: 'Changes across contexts must commit together.' },
      { value: 'mixed', name: 'Strong in places, eventual elsewhere', description: 'A few flows need atomicity.' },
      { value: 'eventual', name: 'Eventual is fine', description: 'Contexts may converge through events and compensations.' },
    ],
  },
  {
    path: 'domain.interaction',
    group: 'Domain',
    kind: 'enum',
    message: 'How do parts of the system mostly interact?',
    help: 'Request-response: a user waits for a chain of calls. Event-driven: work is triggered by messages.',
    choices: [
      { value: 'request-response', name: 'Request-response', description: 'Users wait for synchronous answers.' },
      { value: 'mixed', name: 'Mixed', description: 'Some synchronous APIs, some background events.' },
      { value: 'event-driven', name: 'Event-driven', description: 'Most work reacts to events or queues.' },
    ],
  },
  {
    path: 'load.expectedRps',
    group: 'Load',
    kind: 'number',
    unit: 'rps',
    message: 'Expected request rate at the public API in a normal busy hour (requests/s)?',
    help: 'Measured evidence is judged at this rate.',
  },
  {
    path: 'load.peakRps',
    group: 'Load',
    kind: 'number',
    unit: 'rps',
    message: 'Peak request rate you must serve (requests/s)?',
    help: 'The highest short-term rate, at least the expected rate.',
  },
  {
    path: 'load.burstiness',
    group: 'Load',
    kind: 'enum',
    message: 'What does traffic look like over a day?',
    help: 'Always-on processes cost the same idle or busy; functions cost per request.',
    choices: [
      { value: 'steady', name: 'Steady', description: 'Similar load around the clock.' },
      { value: 'daily-peaks', name: 'Daily peaks', description: 'Predictable busy hours.' },
      { value: 'spiky', name: 'Spiky', description: 'Sudden bursts (campaigns, drops) well above normal.' },
      { value: 'mostly-idle', name: 'Mostly idle, with bursts', description: 'Idle most of the time, occasional bursts.' },
    ],
  },
  {
    path: 'load.scalingProfile',
    group: 'Load',
    kind: 'enum',
    message: 'Do some parts need far more capacity than others?',
    help: 'E.g. catalog reads at 100x the rate of checkout.',
    choices: [
      { value: 'uniform', name: 'No, load is roughly uniform', description: 'Scaling everything together is fine.' },
      { value: 'uneven', name: 'Yes, scaling is uneven', description: 'Some parts need to scale on their own.' },
    ],
  },
  {
    path: 'load.p95BudgetMs',
    group: 'Load',
    kind: 'number',
    unit: 'ms',
    message: 'p95 latency budget of a public request (ms)?',
    help: '95% of requests must finish within this many milliseconds.',
  },
  {
    path: 'load.busyHoursPerDay',
    group: 'Load',
    kind: 'number',
    unit: 'h',
    optional: true,
    message: 'Hours a day at about the expected rate (0-24)?',
    help: 'The rest of the day counts as near idle; the monthly cost estimate uses it. Unknown: derived from the traffic shape.',
  },
  {
    path: 'change.releaseFrequency',
    group: 'Change',
    kind: 'enum',
    message: 'How often do you release to production?',
    help: 'Frequent releases favour small deployables with their own pipelines.',
    choices: [
      { value: 'monthly', name: 'Monthly or less', description: 'Release trains.' },
      { value: 'weekly', name: 'Weekly', description: 'A regular weekly release.' },
      { value: 'daily', name: 'Daily', description: 'Most days.' },
      { value: 'on-demand', name: 'On demand, many times a day', description: 'Continuous deployment.' },
    ],
  },
  {
    path: 'change.independentReleases',
    group: 'Change',
    kind: 'enum',
    message: 'Must parts of the system be released independently of each other?',
    help: 'Independent deployability is the main thing services buy you.',
    choices: [
      { value: 'none', name: 'No', description: 'Releasing everything together is fine.' },
      { value: 'some', name: 'A few parts', description: 'One or two parts change at a different pace.' },
      { value: 'most', name: 'Most parts', description: 'Teams must ship without coordinating.' },
    ],
  },
  {
    path: 'operations.kubernetes',
    group: 'Operations',
    kind: 'enum',
    message: 'What is your Kubernetes (or other orchestrator) experience?',
    help: 'Many services usually run on an orchestrator.',
    choices: [
      { value: 'none', name: 'None', description: 'No orchestrator in use.' },
      { value: 'learning', name: 'Learning', description: 'Some clusters, not yet routine.' },
      { value: 'production', name: 'Production', description: 'Running production workloads routinely.' },
    ],
  },
  {
    path: 'operations.tracing',
    group: 'Operations',
    kind: 'enum',
    message: 'What observability do you have today?',
    help: 'Debugging a request across services needs distributed tracing.',
    choices: [
      { value: 'none', name: 'Little or none', description: 'Logs on the box.' },
      { value: 'logs-metrics', name: 'Central logs and metrics', description: 'Dashboards and alerts, no tracing.' },
      { value: 'distributed', name: 'Distributed tracing', description: 'OpenTelemetry traces across processes.' },
    ],
  },
  {
    path: 'cost.sensitivity',
    group: 'Cost',
    kind: 'enum',
    message: 'How much does running cost weigh in this decision?',
    help: 'High doubles the weight of the running-cost criterion; low halves it.',
    choices: [
      { value: 'low', name: 'Low', description: 'Cost is a minor concern.' },
      { value: 'medium', name: 'Medium', description: 'Cost matters like other criteria.' },
      { value: 'high', name: 'High', description: 'Every cent counts.' },
    ],
  },
  {
    path: 'timeToMarket',
    group: 'Time to market',
    kind: 'enum',
    message: 'How urgent is the first release?',
    help: 'An MVP ships fastest as one deployable or as managed functions.',
    choices: [
      { value: 'relaxed', name: 'Relaxed', description: 'Long-lived product, no rush.' },
      { value: 'normal', name: 'Normal', description: 'The usual pressure.' },
      { value: 'urgent', name: 'Urgent (MVP)', description: 'Must ship in weeks.' },
    ],
  },
  {
    path: 'today.architecture',
    group: 'Where you stand today',
    kind: 'enum',
    optional: true,
    message: 'What runs today?',
    help: 'Moving from what exists costs time; extracting from a monolith is incremental.',
    choices: [
      { value: 'none', name: 'Nothing yet (greenfield)', description: 'A new system.' },
      { value: 'monolith', name: 'A monolith', description: 'One deployable today.' },
      { value: 'microservices', name: 'Microservices', description: 'Several services today.' },
      { value: 'serverless', name: 'Serverless', description: 'Functions and managed services today.' },
    ],
  },
  {
    path: 'today.broker',
    group: 'Where you stand today',
    kind: 'enum',
    optional: true,
    message: 'Is a message broker (RabbitMQ, Kafka, SQS, ...) already in production?',
    help: 'Asynchronous sagas and events need a broker someone already runs.',
    choices: [
      { value: 'none', name: 'No', description: 'No broker in production.' },
      { value: 'yes', name: 'Yes', description: 'A broker is run and on call.' },
    ],
  },
  {
    path: 'today.pain',
    group: 'Where you stand today',
    kind: 'enum',
    optional: true,
    message: 'What pain triggered this decision?',
    help: 'The decision should remove the pain that started it.',
    choices: [
      { value: 'none', name: 'No particular pain', description: 'A new system, or a routine review.' },
      { value: 'deploy-coupling', name: 'Deploy coupling', description: 'Teams wait for each other to release.' },
      { value: 'transaction-timeouts', name: 'Transaction timeouts', description: 'Cross-service transactions or sagas time out.' },
      { value: 'tracing-cost', name: 'Tracing cost', description: 'Following a request across services is slow or expensive.' },
      { value: 'scaling-cost', name: 'Scaling cost', description: 'Paying for capacity that sits idle, or scaling everything for one part.' },
    ],
  },
];

/**
 * Human label of an answer value, e.g. `Each team for its own parts` for `team.onCall: per-team`.
 * @example answerLabel('team.onCall', 'per-team')
 */
export function answerLabel(path: string, value: unknown): string {
  if (value === undefined || value === null || value === 'unknown') return 'unknown';
  const q = QUESTIONS.find((x) => x.path === path);
  if (q?.choices) return q.choices.find((c) => c.value === value)?.name ?? String(value);
  return q?.unit ? `${String(value)} ${q.unit}` : String(value);
}
