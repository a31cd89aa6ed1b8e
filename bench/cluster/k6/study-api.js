// k6 load test of the coordinator's StudyService: the scenario of
// bench/cluster/run.ts (the Node driver that runs it on machines without k6).
// Needs k6 >= 0.49 (gRPC streams). From the repository root:
//
//   k6 run -e ADDR=127.0.0.1:50051 -e TOKEN=$(cat .cluster/token) \
//          -e SWEEP=bench/cluster/k6/sleep-sweep.yaml bench/cluster/k6/study-api.js
//
// setup() creates one sweep of the `sleep` test model; then WATCHERS virtual
// users each hold a WatchSweep stream open while READERS virtual users call
// GetSweep and ListTrials in a loop. Threshold: API p99 under 50 ms.
import grpc from 'k6/net/grpc';
import { check, sleep } from 'k6';
import { Trend } from 'k6/metrics';

const ADDR = __ENV.ADDR || '127.0.0.1:50051';
const WATCHERS = Number(__ENV.WATCHERS || 200);
const READERS = Number(__ENV.READERS || 4);
const DURATION = __ENV.DURATION || '60s';
const sweepYaml = open(__ENV.SWEEP || 'sleep-sweep.yaml');

const client = new grpc.Client();
client.load(['../../../proto'], 'cellsweep/v1/study.proto');
const apiLatency = new Trend('cellsweep_api_latency', true);

export const options = {
  scenarios: {
    watchers: { executor: 'constant-vus', exec: 'watch', vus: WATCHERS, duration: DURATION },
    readers: { executor: 'constant-vus', exec: 'read', vus: READERS, duration: DURATION },
  },
  thresholds: { cellsweep_api_latency: ['p(99)<50'] },
};

export function setup() {
  client.connect(ADDR, { plaintext: true });
  const res = client.invoke('cellsweep.v1.StudyService/CreateSweep', { config_yaml: sweepYaml }, { metadata: { authorization: `Bearer ${__ENV.TOKEN}` } });
  check(res, { 'sweep created': (r) => r && r.status === grpc.StatusOK });
  client.close();
  return { sweepId: res.message.sweepId };
}

export function watch(data) {
  client.connect(ADDR, { plaintext: true });
  const stream = new grpc.Stream(client, 'cellsweep.v1.StudyService/WatchSweep');
  stream.on('end', () => client.close());
  stream.write({ sweep_id: data.sweepId });
  sleep(30);
  stream.end();
}

export function read(data) {
  client.connect(ADDR, { plaintext: true });
  for (let i = 0; i < 100; i++) {
    const t = Date.now();
    const a = client.invoke('cellsweep.v1.StudyService/GetSweep', { sweep_id: data.sweepId });
    apiLatency.add(Date.now() - t);
    const t2 = Date.now();
    const b = client.invoke('cellsweep.v1.StudyService/ListTrials', { sweep_id: data.sweepId, study: 's1', page_size: 100 });
    apiLatency.add(Date.now() - t2);
    check(a, { 'GetSweep ok': (r) => r && r.status === grpc.StatusOK });
    check(b, { 'ListTrials ok': (r) => r && r.status === grpc.StatusOK });
    sleep(0.02);
  }
  client.close();
}
