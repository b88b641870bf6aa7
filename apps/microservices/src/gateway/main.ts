import { runProcess } from '../shared/run';
import { createGatewayApp } from './app';

runProcess('gateway', async ({ env, obs, client }) => ({ app: createGatewayApp({ env, obs, client }).app }));
