import { DockerfileParser } from 'dockerfile-ast';
import type { Env, From, Instruction } from 'dockerfile-ast';

export interface DockerfileFacts {
  /** Stage names in order (`''` for an unnamed stage). */
  stages: string[];
  /** Base image of each stage, as written. */
  bases: string[];
  /** The final stage's user, CMD/ENTRYPOINT (exec form, parsed) and HEALTHCHECK command. */
  finalUser: string | undefined;
  finalCommand: string[] | undefined;
  /** Variables the final stage's ENV instructions set (the last value of each). */
  finalEnv: Record<string, string>;
  healthcheck: string[] | undefined;
  /** Sources of the final stage's `COPY --from=`. */
  finalCopiesFrom: string[];
  /** Every RUN line of the build stages and of the final stage. */
  buildRuns: string[];
  finalRuns: string[];
}

export interface DockerfileReport {
  facts: DockerfileFacts;
  /** One sentence per broken rule; empty when the Dockerfile follows them all. */
  problems: string[];
}

const PACKAGE_INSTALL = /\b(npm\s+(install|ci|i)\b|pnpm\s+(install|i|add|fetch)\b|yarn(\s+install|\s+add)?\b|corepack\b)/;

/** The JSON array of an exec-form instruction, or undefined when it is shell form. */
function execForm(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Arguments of an instruction with its line continuations joined. */
function argumentText(instruction: Instruction): string {
  return (instruction.getArgumentsContent() ?? '').replace(/\\\r?\n/g, ' ');
}

/**
 * Checks a Dockerfile against the project's image rules (parsed with dockerfile-ast, no Docker
 * needed): multi-stage; every base image pinned to a version tag (never `latest` or untagged);
 * the final stage copies from an earlier stage, runs as a non-root USER, has an exec-form
 * HEALTHCHECK and an exec-form CMD or ENTRYPOINT (so PID 1 is the server and gets SIGTERM), and
 * installs no packages (no npm/pnpm/yarn in it: dev dependencies cannot reach the image).
 * @example checkDockerfile(readFileSync('deploy/docker/server.Dockerfile', 'utf8')).problems // []
 */
export function checkDockerfile(text: string): DockerfileReport {
  const dockerfile = DockerfileParser.parse(text);
  const froms: From[] = dockerfile.getFROMs();
  const stages = froms.map((f) => f.getBuildStage() ?? '');
  const problems: string[] = [];
  if (froms.length < 2) problems.push(`multi-stage build expected, found ${froms.length} stage(s)`);

  for (const from of froms) {
    const image = from.getImage() ?? '';
    const earlier = stages.slice(0, froms.indexOf(from));
    if (earlier.includes(image)) continue;
    const tag = from.getImageTag();
    if (!tag && !from.getImageDigest()) problems.push(`FROM ${image}: base image is not pinned (no tag)`);
    else if (tag === 'latest') problems.push(`FROM ${image}: "latest" is not a pinned version`);
    else if (tag && !/\d/.test(tag)) problems.push(`FROM ${image}: tag "${tag}" names no version`);
  }

  const instructions = dockerfile.getInstructions();
  const last = froms.at(-1);
  const finalStart = last ? last.getRange().start.line : 0;
  const final = instructions.filter((i) => i.getRange().start.line >= finalStart);
  const earlierPart = instructions.filter((i) => i.getRange().start.line < finalStart);
  const of = (list: Instruction[], keyword: string) => list.filter((i) => i.getKeyword() === keyword);

  const users = of(final, 'USER');
  const finalUser = users.at(-1) ? argumentText(users.at(-1)!).trim() : undefined;
  if (finalUser === undefined) problems.push('final stage has no USER: it would run as root');
  else if (/^(root|0)(:|$)/.test(finalUser)) problems.push(`final stage runs as ${finalUser}`);

  const commands = [...of(final, 'ENTRYPOINT'), ...of(final, 'CMD')];
  let finalCommand: string[] | undefined;
  if (commands.length === 0) problems.push('final stage has no CMD or ENTRYPOINT');
  for (const command of commands) {
    const parsed = execForm(argumentText(command));
    if (!parsed) problems.push(`${command.getKeyword()} is shell form: a shell would be PID 1 and swallow SIGTERM`);
    else finalCommand = [...(finalCommand ?? []), ...parsed];
  }

  const finalEnv: Record<string, string> = {};
  for (const env of of(final, 'ENV') as Env[]) for (const property of env.getProperties()) finalEnv[property.getName()] = property.getValue() ?? '';

  const healthchecks = of(final, 'HEALTHCHECK');
  let healthcheck: string[] | undefined;
  if (healthchecks.length === 0) problems.push('final stage has no HEALTHCHECK');
  for (const check of healthchecks) {
    const text = argumentText(check);
    const at = text.search(/\bCMD\b/);
    healthcheck = at < 0 ? undefined : execForm(text.slice(at + 3));
    if (!healthcheck) problems.push('HEALTHCHECK must be `CMD [...]` in exec form (slim and distroless images may have no shell)');
  }

  const finalCopiesFrom = of(final, 'COPY').flatMap((copy) => {
    const flag = (copy as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags().find((f) => f.getName() === 'from');
    return flag?.getValue() ? [flag.getValue()!] : [];
  });
  if (!finalCopiesFrom.some((source) => stages.slice(0, -1).includes(source)))
    problems.push('final stage copies nothing from a build stage (COPY --from=<stage>)');

  const finalRuns = of(final, 'RUN').map(argumentText);
  for (const run of finalRuns) {
    if (PACKAGE_INSTALL.test(run)) problems.push(`final stage installs packages (${run.trim().slice(0, 60)}): dependencies belong in the build stage`);
  }

  return {
    facts: {
      stages,
      bases: froms.map((f) => f.getImage() ?? ''),
      finalUser,
      finalCommand,
      finalEnv,
      healthcheck,
      finalCopiesFrom,
      buildRuns: of(earlierPart, 'RUN').map(argumentText),
      finalRuns,
    },
    problems,
  };
}
