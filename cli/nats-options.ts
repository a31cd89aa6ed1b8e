import { natsSettings, type NatsSettings } from '../core/nats/connect.js';

/** The NATS flags every cluster-mode command takes (credentials also from NATS_* variables). */
export const NATS_OPTIONS = {
  nats: { type: 'string' },
  'nats-creds': { type: 'string' },
  'nats-nkey': { type: 'string' },
  'nats-tls-ca': { type: 'string' },
  'nats-tls-cert': { type: 'string' },
  'nats-tls-key': { type: 'string' },
} as const;

export const NATS_USAGE = `[--nats URL] [--nats-creds F | --nats-nkey F] [--nats-tls-ca F] [--nats-tls-cert F --nats-tls-key F]
  (NATS_URL, NATS_USER, NATS_PASSWORD, NATS_CREDS, NATS_NKEY and NATS_TLS_CA/CERT/KEY are read from the environment)`;

type NatsValues = { [K in keyof typeof NATS_OPTIONS]?: string | undefined };

export function natsSettingsOf(values: NatsValues, name: string): NatsSettings {
  return natsSettings(
    {
      url: values.nats,
      creds: values['nats-creds'],
      nkey: values['nats-nkey'],
      tlsCa: values['nats-tls-ca'],
      tlsCert: values['nats-tls-cert'],
      tlsKey: values['nats-tls-key'],
    },
    name,
  );
}
