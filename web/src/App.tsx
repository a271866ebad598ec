import { useEffect, useState } from 'react';

type Health = { status: 'ok' | 'unavailable'; down: string[] };

/** Placeholder shell until the dashboard screens land: shows whether the platform is up. */
export function App() {
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    fetch('/health')
      .then((response) => response.json() as Promise<Health>)
      .then(setHealth)
      .catch((cause: unknown) => setError(cause instanceof Error ? cause.message : String(cause)));
  }, []);

  return (
    <main
      style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '4rem auto', padding: '0 1rem' }}
    >
      <h1>AI Cloud</h1>
      <p>Serverless GPU endpoints with an OpenAI-compatible API, billed per second.</p>
      <p role="status">
        {error
          ? `Platform unreachable: ${error}`
          : health
            ? health.status === 'ok'
              ? 'All systems operational.'
              : `Degraded: ${health.down.join(', ')} unavailable.`
            : 'Checking platform status…'}
      </p>
      <p>
        <a href="/openapi.json">OpenAPI document</a>
      </p>
    </main>
  );
}
