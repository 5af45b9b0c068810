// Importing this module registers the rules engine: ACLs, rule sets and their actions, content
// switching keywords, and every sample fetch and converter.
import '../sample/index.js';
import './keywords.js';
import './common-actions.js';
import './http-actions.js';
import './tcp-actions.js';
import { keywordDumpers } from '../registry/registry.js';
import { dumpFetches, dumpConverters } from '../sample/registry.js';
import { dumpAclKeywords } from '../acl/acl.js';
import { dumpActions } from './rules.js';

keywordDumpers.smp = dumpFetches;
keywordDumpers.cnv = dumpConverters;
keywordDumpers.acl = dumpAclKeywords;
keywordDumpers.actions = dumpActions;
