// Importing this module registers the rules engine: ACLs, rule sets and their actions, content
// switching keywords, and every sample fetch and converter.
import '../sample/index.js';
import './keywords.js';
import './common-actions.js';
import './http-actions.js';
export {};
