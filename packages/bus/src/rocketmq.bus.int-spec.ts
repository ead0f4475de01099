import { createLogger } from '@mqim/config';
import { describeInfra, probeRocketMq } from '@mqim/testing';
import { RocketMqBus } from './rocketmq.bus';
import { runBusContract } from './testing';

// Needs `infra/rocketmq/rocketmq.sh start`: its proxy allows invisibleMs and long polls down to
// 1 s (a stock proxy: 10 s and 5 s), which keeps this suite short.
const rmq = probeRocketMq();
const logger = createLogger('bus', process.env.MQIM_LOG_LEVEL ?? 'silent');

describeInfra('RocketMqBus', rmq, () => {
  runBusContract(
    'RocketMqBus',
    () =>
      new RocketMqBus({
        endpoints: rmq.proxyEndpoints,
        namesrv: rmq.nameServer,
        retryDelayMs: 200,
        awaitDurationMs: 1000,
        logger,
      }),
    {
      deliveryTimeoutMs: 8000,
      redeliveryMs: 3000,
      invisibleMs: 2000,
      reviveMs: 4000,
      delayMs: 2000,
      delayLateMs: 1500,
      delayEarlyMs: 50,
    },
  );
});
