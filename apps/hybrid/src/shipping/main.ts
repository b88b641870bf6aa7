/**
 * The hybrid's shipping process is the microservices app's shipping service, unchanged: its own
 * database (`shipping.db`, or `<DATABASE_URL name>_shipping`), an inbox so each event applies
 * once, and both transports. Reusing it keeps one implementation of the extracted boundary.
 */
import '@archbench/microservices/shipping/main';
