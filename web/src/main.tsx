import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { onSessionEnded } from './api/client.ts';
import { router } from './routes.tsx';
import './styles.css';

// The theme is chosen before the first paint, so a dark-mode user never sees a white flash.
const savedTheme = localStorage.getItem('aicloud.theme');
const prefersDark = window.matchMedia('(prefers-color-scheme: dark)').matches;
document.documentElement.classList.toggle('dark', savedTheme ? savedTheme === 'dark' : prefersDark);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // 4xx answers are final (a missing deployment, no permission); only network trouble is retried.
      retry: (failures, error) => failures < 2 && !(error as { status?: number }).status,
      refetchOnWindowFocus: false,
    },
  },
});

// A session that ended (expired, signed out elsewhere) shows the sign-in page, as a fresh visit would.
onSessionEnded(() => queryClient.setQueryData(['me'], null));

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
