// Importing this module registers every sample fetch and converter haproxy-ts implements.
import './fetches/internal.js';
import './fetches/l4.js';
import './fetches/payload.js';
import './fetches/http.js';
import './fetches/auth.js';
import './fetches/vars-acl.js';
import './fetches/tcpinfo.js';
import './converters/basic.js';
import './converters/protocols.js';
import './converters/maps.js';
export { fetchRegistry, converterRegistry } from './registry.js';
