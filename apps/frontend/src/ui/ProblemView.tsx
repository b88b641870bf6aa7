import type { ProblemInfo } from '../api/problem';

/** Shows a problem+json error readably: title, detail and each field error. */
export function ProblemView({ problem, onDismiss }: { problem: ProblemInfo; onDismiss?: () => void }) {
  return (
    <div className="problem" role="alert" data-problem-code={problem.code}>
      <p className="problem-title">
        <strong>{problem.title}</strong>
        {problem.status > 0 && <span className="problem-status"> (HTTP {problem.status})</span>}
      </p>
      {problem.detail && <p className="problem-detail">{problem.detail}</p>}
      {problem.errors && problem.errors.length > 0 && (
        <ul className="problem-errors" aria-label="Field errors">
          {problem.errors.map((error, index) => (
            <li key={`${error.path}-${index}`}>
              <code>{error.path}</code>: {error.message}
            </li>
          ))}
        </ul>
      )}
      {onDismiss && (
        <button type="button" className="link-button" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}
