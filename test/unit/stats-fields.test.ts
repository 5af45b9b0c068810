// The statistics field table against haproxy 2.6: the CSV header of the stats page (`;csv`) and of
// `show stat`, as 2.6 prints it up to the '-' marker (captured with curl from a 2.6 stats page),
// and the column positions of management.txt 9.1.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STAT_FIELDS } from '../../src/ops/stats-fields.js';
import { csvHeader, csvRow, csvCell } from '../../src/ops/stats-cli.js';

// haproxy 2.6.12, "GET /;csv" on a stats page, first line cut at the '-' marker
const HEADER_26 = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,';

describe('statistics fields', () => {
  it('CSV header equals 2.6 up to the - marker', () => {
    assert.equal(csvHeader(), `${HEADER_26}-,\n`);
  });
  it('positions follow management.txt 9.1', () => {
    STAT_FIELDS.forEach((f, i) => assert.equal(f.pos, i, f.name));
    const at = (n: string): number => STAT_FIELDS.findIndex((f) => f.name === n);
    // management.txt 9.1: 17. status, 27. iid, 32. type, 73. addr, 75. mode, 99. uweight
    assert.equal(at('status'), 17);
    assert.equal(at('iid'), 27);
    assert.equal(at('type'), 32);
    assert.equal(at('addr'), 73);
    assert.equal(at('mode'), 75);
    assert.equal(at('uweight'), 99);
    assert.equal(STAT_FIELDS.length, 103);
  });
  it('tags and types follow management.txt 9.2 for a few fields', () => {
    const f = (n: string) => STAT_FIELDS.find((x) => x.name === n)!;
    assert.equal(f('pxname').type, 'str');
    assert.equal(f('stot').tags, 'MCP');
    assert.equal(f('scur').tags, 'MGP');
    assert.equal(f('smax').tags, 'MMP');
  });
  it('CSV cells are quoted only when needed (RFC 4180)', () => {
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell(undefined), '');
    assert.equal(csvRow(['a', 1, undefined]), 'a,1,,-,\n');
  });
});
