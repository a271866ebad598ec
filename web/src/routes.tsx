import { createBrowserRouter } from 'react-router';
import { Layout } from './components/Layout.tsx';
import { PageError } from './components/PageError.tsx';
import { Loading } from './components/ui.tsx';
import { Login, ResetPassword, Signup, VerifyEmail } from './pages/Auth.tsx';

/** Each signed-in screen is its own chunk, loaded when first visited. */
const page = (load: () => Promise<{ default: React.ComponentType }>) => async () => ({
  Component: (await load()).default,
});

export const router = createBrowserRouter([
  { path: '/login', Component: Login },
  { path: '/signup', Component: Signup },
  { path: '/verify-email', Component: VerifyEmail },
  { path: '/reset-password', Component: ResetPassword },
  {
    path: '/',
    Component: Layout,
    HydrateFallback: () => <Loading />,
    children: [
      {
        // A screen that throws or fails to load shows its error inside the layout.
        ErrorBoundary: PageError,
        children: [
          { index: true, lazy: page(() => import('./pages/Dashboard.tsx')) },
          { path: 'catalog', lazy: page(() => import('./pages/Catalog.tsx')) },
          { path: 'deployments/new', lazy: page(() => import('./pages/NewDeployment.tsx')) },
          { path: 'deployments/:id', lazy: page(() => import('./pages/Deployment.tsx')) },
          { path: 'billing', lazy: page(() => import('./pages/Billing.tsx')) },
          { path: 'api-keys', lazy: page(() => import('./pages/ApiKeys.tsx')) },
          { path: 'jobs', lazy: page(() => import('./pages/Jobs.tsx')) },
          { path: 'org', lazy: page(() => import('./pages/Members.tsx')) },
          { path: 'account', lazy: page(() => import('./pages/Account.tsx')) },
          { path: 'invitations/accept', lazy: page(() => import('./pages/AcceptInvitation.tsx')) },
          { path: '*', lazy: page(() => import('./pages/NotFound.tsx')) },
        ],
      },
    ],
  },
]);
