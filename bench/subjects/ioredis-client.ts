/** Opening and closing an ioredis connection the way an application would. */
import { Redis } from 'ioredis';

/** An ioredis connection, resolved once it is ready. */
export async function openIoredis(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  return client;
}

export async function closeIoredis(client: Redis): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
