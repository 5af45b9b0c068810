// Protocol-aware converters (configuration.txt 7.3.1): JSON and JWT, protocol buffers / gRPC,
// MQTT, FIX and RFC 7239 (Forwarded). Each family lives in its own proto-*.ts module.
import './proto-json.js';
import './proto-pbuf.js';
import './proto-mqtt.js';
import './proto-fix.js';
import './proto-rfc7239.js';
export {};
