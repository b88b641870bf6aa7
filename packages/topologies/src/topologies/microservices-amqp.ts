import { microservicesTopology } from './microservices';

/** The microservices with saga commands and events over RabbitMQ (needs AMQP_URL). */
export default microservicesTopology('amqp');
