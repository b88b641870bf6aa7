import { runProcess } from '../shared/run';
import { createGatewayApp } from './app';

runProcess('gateway', async ({ env, logger, client }) => ({ app: createGatewayApp({ env, logger, client }).app }));
