import { describe, expect, it } from 'vitest';
import { connectionFailed } from '../src/engine/run-scenario';

// Only a refused or reset connection counts toward a --target having stopped answering; a timeout
// is an overloaded target that is still being measured.

const err = (message: string, code?: string, cause?: unknown) => Object.assign(new Error(message), code ? { code } : {}, cause ? { cause } : {});

describe('connectionFailed', () => {
  it('refused, reset and closed by the other side are connection failures', () => {
    expect(connectionFailed(err('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'))).toBe(true);
    expect(connectionFailed(err('read ECONNRESET', 'ECONNRESET'))).toBe(true);
    expect(connectionFailed(err('other side closed', 'UND_ERR_SOCKET'))).toBe(true);
    expect(connectionFailed(err('fetch failed', undefined, err('read ECONNRESET', 'ECONNRESET')))).toBe(true);
  });

  it('timeouts and other errors are not', () => {
    expect(connectionFailed(err('Headers Timeout Error', 'UND_ERR_HEADERS_TIMEOUT'))).toBe(false);
    expect(connectionFailed(err('Body Timeout Error', 'UND_ERR_BODY_TIMEOUT'))).toBe(false);
    expect(connectionFailed(err('Connect Timeout Error', 'UND_ERR_CONNECT_TIMEOUT'))).toBe(false);
    expect(connectionFailed(undefined)).toBe(false);
  });
});
