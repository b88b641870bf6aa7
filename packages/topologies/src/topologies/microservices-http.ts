import { microservicesTopology } from './microservices';

/** The microservices with saga commands and events over HTTP (the embedded default). */
export default microservicesTopology('http');
