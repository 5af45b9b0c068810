// The runtime API ("stats socket", management.txt 9.3). Importing this module registers the
// `stats socket|timeout|maxconn` global keywords and the CLI commands; main() then calls
// startStatsSockets() once the proxies' listeners are bound.
//
// Commands registered by other modules (registerCli) receive a CliSessionContext: besides the
// registry's `out` and `level`, it carries `rt` (the Runtime), `msg()`/`err()` for feedback
// messages (severity prefixes, one trailing LF) and the `session`. cliRuntime() gives the
// Runtime to code that only has the registry's CliContext type.
import '../proxy/keywords.js';
import '../http/keywords.js';
import '../proxy/server-keywords.js';
import '../proxy/cookie.js';
import '../net/bind-keywords.js';
import './cli-maps.js';
import './cli-config.js';
import './cli-commands.js';
import './cli-dynsrv.js';
import './stats-config.js';


export { startStatsSockets, boundAddress } from './cli-listen.js';
export { CliSession, type CliSessionContext, type CliTransport, type CliMode } from './cli-session.js';
export { cliRuntime, cliState, type CliSocketConfig, type SeverityOutput } from './cli-state.js';
export { lookupServer, applyWeight, setServerAdmin } from './cli-commands.js';
export { processVersion } from './cli-format.js';
