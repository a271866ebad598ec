import * as DropdownMenu from '@radix-ui/react-dropdown-menu';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Navigate, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { api, forgetOrg, unwrap } from '../api/client.ts';
import { usd } from '../lib/format.ts';
import { useBalance } from '../lib/queries.ts';
import { useMe, useOrgs, useSwitchOrg } from '../lib/session.ts';
import { Button, cx, ErrorNote, Loading } from './ui.tsx';

const NAV = [
  ['/', 'Dashboard'],
  ['/catalog', 'Catalog'],
  ['/deployments/new', 'New endpoint'],
  ['/billing', 'Billing'],
  ['/api-keys', 'API keys'],
  ['/jobs', 'Jobs & webhooks'],
  ['/org', 'Organization'],
  ['/account', 'Account'],
] as const;

function ThemeToggle() {
  const [dark, setDark] = useState(() => document.documentElement.classList.contains('dark'));
  useEffect(() => {
    document.documentElement.classList.toggle('dark', dark);
    localStorage.setItem('aicloud.theme', dark ? 'dark' : 'light');
  }, [dark]);
  return (
    <button
      type="button"
      onClick={() => setDark(!dark)}
      className="rounded-md px-2 py-1 text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
      aria-label={dark ? 'Switch to light theme' : 'Switch to dark theme'}
    >
      {dark ? '☀' : '☾'}
    </button>
  );
}

function OrgSwitcher({ current }: { current: string }) {
  const orgs = useOrgs();
  const switchOrg = useSwitchOrg();
  const name = orgs.data?.data.find((org) => org.id === current)?.name ?? 'Organization';
  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger
        className="max-w-40 truncate rounded-md border border-slate-300 px-2 py-1 text-sm dark:border-slate-700"
        aria-label="Switch organization"
      >
        {name} ▾
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content
          className="z-50 min-w-48 rounded-md border border-slate-200 bg-white p-1 shadow-lg dark:border-slate-700 dark:bg-slate-900"
          align="end"
        >
          {orgs.data?.data.map((org) => (
            <DropdownMenu.Item
              key={org.id}
              onSelect={() => switchOrg(org.id)}
              className="cursor-pointer rounded px-2 py-1.5 text-sm outline-none data-[highlighted]:bg-slate-100 dark:data-[highlighted]:bg-slate-800"
            >
              {org.name} {org.id === current && '✓'}
            </DropdownMenu.Item>
          ))}
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}

function BalanceBadge() {
  const balance = useBalance();
  if (!balance.data) return null;
  const value = balance.data.balance_usd;
  return (
    <NavLink
      to="/billing"
      className={cx(
        'rounded-md px-2 py-1 text-sm font-medium',
        value <= 0 ? 'text-red-600' : 'text-emerald-700 dark:text-emerald-400',
      )}
    >
      {usd(value)}
    </NavLink>
  );
}

/**
 * Until the address is verified, keys, deployments and invitations are refused: say so, and offer a
 * new link (the first one lasts 48 hours).
 */
function VerifyBanner({ email }: { email: string }) {
  const resend = useMutation({ mutationFn: () => unwrap(api.auth['verify-email'].resend.$post()) });
  return (
    <div
      role="status"
      className="mb-4 flex flex-wrap items-center gap-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
    >
      <span>
        Verify {email} to create API keys, deployments and invitations: open the link we emailed you.
      </span>
      {resend.isSuccess ? (
        <span>A new link is on its way.</span>
      ) : (
        <Button variant="secondary" disabled={resend.isPending} onClick={() => resend.mutate()}>
          Send a new link
        </Button>
      )}
      <ErrorNote error={resend.error} />
    </div>
  );
}

/** The signed-in frame: navigation, org switcher, balance, theme, sign-out. */
export function Layout() {
  const me = useMe();
  const location = useLocation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  if (me.isPending)
    return (
      <div className="p-6">
        <Loading />
      </div>
    );
  // Back here after logging in (an invitation link opened while signed out, a deep link).
  if (!me.data)
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  const signOut = async () => {
    await api.auth.logout.$post({ json: {} });
    // The next person to sign in on this browser starts in their own org.
    forgetOrg();
    client.clear();
    navigate('/login');
  };
  return (
    <div className="min-h-screen">
      <header className="sticky top-0 z-40 border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-950/90">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2">
          <NavLink to="/" className="font-semibold text-brand-600">
            AI Cloud
          </NavLink>
          <button
            type="button"
            className="ml-auto rounded-md border px-2 py-1 text-sm md:hidden dark:border-slate-700"
            aria-expanded={open}
            aria-controls="main-nav"
            onClick={() => setOpen(!open)}
          >
            Menu
          </button>
          <nav
            id="main-nav"
            aria-label="Main"
            className={cx(
              'absolute left-0 right-0 top-full border-b bg-white p-2 md:static md:flex md:border-0 md:bg-transparent md:p-0 dark:bg-slate-950',
              open ? 'block' : 'hidden',
            )}
          >
            {NAV.map(([to, label]) => (
              <NavLink
                key={to}
                to={to}
                end={to === '/'}
                onClick={() => setOpen(false)}
                className={({ isActive }) =>
                  cx(
                    'block rounded-md px-2 py-1.5 text-sm',
                    isActive
                      ? 'bg-brand-50 font-medium text-brand-700 dark:bg-slate-800 dark:text-white'
                      : 'hover:bg-slate-100 dark:hover:bg-slate-800',
                  )
                }
              >
                {label}
              </NavLink>
            ))}
          </nav>
          <div className="flex items-center gap-2 md:ml-auto">
            <BalanceBadge />
            <OrgSwitcher current={me.data.org_id} />
            <ThemeToggle />
            <button
              type="button"
              onClick={() => void signOut()}
              className="rounded-md px-2 py-1 text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
            >
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">
        {!me.data.user.email_verified && <VerifyBanner email={me.data.user.email} />}
        <Outlet />
      </main>
    </div>
  );
}
