import { connect } from 'node:net';

/**
 * RabbitMQ for the tests, as the rest of the repository finds it (AMQP_TEST_URL, else the local
 * broker); a test that needs it skips with a message, or fails under ARCHBENCH_REQUIRE_SERVICES=1.
 */
// Tests configure themselves from the environment, like server-kit's test helpers.
export const AMQP_TEST_URL = process.env.AMQP_TEST_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

function amqpReachable(): Promise<boolean> {
  const url = new URL(AMQP_TEST_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 5672), timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** True (after saying why) when RabbitMQ is missing and not required. */
export async function skipWithoutAmqp(): Promise<boolean> {
  if (await amqpReachable()) return false;
  if (process.env.ARCHBENCH_REQUIRE_SERVICES === '1')
    throw new Error(`RabbitMQ is required (ARCHBENCH_REQUIRE_SERVICES=1) but ${AMQP_TEST_URL} is unreachable`);
  process.stderr.write(`SKIP: RabbitMQ at ${AMQP_TEST_URL} is unreachable; set ARCHBENCH_REQUIRE_SERVICES=1 to make this a failure\n`);
  return true;
}
