'use strict';
// What @kubernetes/client-node takes from undici (fetch, Agent, ProxyAgent), for the bundle (scripts/release/lib/bundle.ts),
// without undici's index: its mock agents, interceptors, WebSocket and EventSource cost every cluster command ~10 ms.
const Agent = require('undici/lib/dispatcher/agent');
const ProxyAgent = require('undici/lib/dispatcher/proxy-agent');
const { fetch: fetchImpl } = require('undici/lib/web/fetch');

module.exports = {
  Agent,
  ProxyAgent,
  fetch(init, options = undefined) {
    return fetchImpl(init, options);
  },
};
