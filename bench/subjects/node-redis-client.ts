/** Opening and closing a node-redis client the way an application would. */
import { createClient } from 'redis';

const createNodeRedisClient = (url: string) => createClient({ url });
export type NodeRedisClient = ReturnType<typeof createNodeRedisClient>;

/** A connected node-redis client. */
export async function openNodeRedis(url: string): Promise<NodeRedisClient> {
  const client = createNodeRedisClient(url);
  client.on('error', () => {});
  await client.connect();
  return client;
}

export async function closeNodeRedis(client: NodeRedisClient): Promise<void> {
  await client.close().catch(() => client.destroy());
}
