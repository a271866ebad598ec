import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, chooseOrg, unwrap } from '../api/client.ts';
import { Button, ErrorNote, Field, fieldError, formError } from '../components/ui.tsx';

function AuthFrame({ title, children, footer }: { title: string; children: ReactNode; footer?: ReactNode }) {
  return (
    <main className="mx-auto flex min-h-screen max-w-sm flex-col justify-center px-4 py-10">
      <p className="mb-6 text-center text-lg font-semibold text-brand-600">AI Cloud</p>
      <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
        <h1 className="mb-4 text-xl font-semibold">{title}</h1>
        {children}
      </div>
      {footer && <p className="mt-4 text-center text-sm text-slate-600 dark:text-slate-400">{footer}</p>}
    </main>
  );
}

/** The form's filled-in fields (an empty optional field is left out rather than sent as ""). */
const formValues = (event: FormEvent<HTMLFormElement>) => {
  event.preventDefault();
  const entries = [...new FormData(event.currentTarget)].filter(([, value]) => value !== '');
  return Object.fromEntries(entries) as Record<string, string>;
};

/** Only a path of this app: an open redirect to another site is not followed. */
const safeNext = (next: string | null) => (next?.startsWith('/') && !next.startsWith('//') ? next : '/');

export function Login() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const client = useQueryClient();
  const login = useMutation({
    mutationFn: async (body: { email: string; password: string }) => {
      const session = await unwrap(api.auth.login.$post({ json: body }));
      const me = await unwrap(api.auth.me.$get());
      chooseOrg(me.org_id);
      return session;
    },
    onSuccess: () => {
      client.clear();
      navigate(safeNext(params.get('next')));
    },
  });
  return (
    <AuthFrame
      title="Log in"
      footer={
        <>
          New here?{' '}
          <Link className="text-brand-600 underline" to="/signup">
            Create an account
          </Link>
        </>
      }
    >
      <form
        className="flex flex-col gap-3"
        onSubmit={(event) => login.mutate(formValues(event) as { email: string; password: string })}
      >
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          error={fieldError(login.error, 'email')}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={fieldError(login.error, 'password')}
        />
        <ErrorNote error={formError(login.error, ['email', 'password'])} />
        <Button type="submit" disabled={login.isPending}>
          {login.isPending ? 'Logging in…' : 'Log in'}
        </Button>
        <Link className="text-center text-sm text-brand-600 underline" to="/reset-password">
          Forgot your password?
        </Link>
      </form>
    </AuthFrame>
  );
}

export function Signup() {
  const register = useMutation({
    mutationFn: (body: { email: string; password: string; name?: string }) =>
      unwrap(api.auth.register.$post({ json: body })),
  });
  if (register.isSuccess) {
    return (
      <AuthFrame
        title="Check your email"
        footer={
          <Link className="text-brand-600 underline" to="/login">
            Back to log in
          </Link>
        }
      >
        <p className="text-sm">
          We sent a link to <strong>{register.variables.email}</strong>. Open it to verify your address, then
          log in.
        </p>
      </AuthFrame>
    );
  }
  return (
    <AuthFrame
      title="Create your account"
      footer={
        <>
          Have an account?{' '}
          <Link className="text-brand-600 underline" to="/login">
            Log in
          </Link>
        </>
      }
    >
      <form
        className="flex flex-col gap-3"
        onSubmit={(event) => register.mutate(formValues(event) as { email: string; password: string })}
      >
        <Field label="Name" name="name" autoComplete="name" />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          error={fieldError(register.error, 'email')}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          hint="At least 10 characters."
          error={fieldError(register.error, 'password')}
        />
        <ErrorNote error={formError(register.error, ['email', 'password'])} />
        <Button type="submit" disabled={register.isPending}>
          {register.isPending ? 'Creating…' : 'Create account'}
        </Button>
        <p className="text-xs text-slate-500">
          Prepaid: add funds, then pay per second of GPU time. No subscription.
        </p>
      </form>
    </AuthFrame>
  );
}

/**
 * The emailed link lands here. Verifying takes the account's password too: the link proves the
 * mailbox, the password the sign-up, so someone who registered this address cannot have its owner
 * verify it for them by clicking.
 */
export function VerifyEmail() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const verify = useMutation({
    mutationFn: (password: string) => unwrap(api.auth['verify-email'].$post({ json: { token, password } })),
  });
  return (
    <AuthFrame
      title="Verify your email"
      footer={
        <Link className="text-brand-600 underline" to="/login">
          Log in
        </Link>
      }
    >
      {!token && <ErrorNote error="This link has no token. Open the link from the email again." />}
      {token && verify.isSuccess && (
        <p role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
          Your email is verified. You can log in.
        </p>
      )}
      {token && !verify.isSuccess && (
        <form
          className="flex flex-col gap-3"
          onSubmit={(event) => verify.mutate(formValues(event).password ?? '')}
        >
          <p className="text-sm text-slate-600 dark:text-slate-400">
            Enter the password you chose when you signed up. If you did not sign up, ignore the email: nothing
            happens without it.
          </p>
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            error={fieldError(verify.error, 'password')}
          />
          <ErrorNote error={formError(verify.error, ['password'])} />
          <Button type="submit" disabled={verify.isPending}>
            Verify
          </Button>
        </form>
      )}
    </AuthFrame>
  );
}

export function ResetPassword() {
  const [params] = useSearchParams();
  const token = params.get('token');
  const [done, setDone] = useState(false);
  const request = useMutation({
    mutationFn: (email: string) => unwrap(api.auth['password-reset'].$post({ json: { email } })),
  });
  const confirm = useMutation({
    mutationFn: (password: string) =>
      unwrap(api.auth['password-reset'].confirm.$post({ json: { token: token ?? '', password } })),
    onSuccess: () => setDone(true),
  });
  if (token) {
    return (
      <AuthFrame
        title="Choose a new password"
        footer={
          <Link className="text-brand-600 underline" to="/login">
            Log in
          </Link>
        }
      >
        {done ? (
          <p role="status" className="text-sm">
            Your password is changed and every session was signed out. Log in with the new one.
          </p>
        ) : (
          <form
            className="flex flex-col gap-3"
            onSubmit={(event) => confirm.mutate(formValues(event).password ?? '')}
          >
            <Field
              label="New password"
              name="password"
              type="password"
              autoComplete="new-password"
              required
              minLength={10}
              error={fieldError(confirm.error, 'password')}
            />
            <ErrorNote error={formError(confirm.error, ['password'])} />
            <Button type="submit" disabled={confirm.isPending}>
              Set password
            </Button>
          </form>
        )}
      </AuthFrame>
    );
  }
  return (
    <AuthFrame
      title="Reset your password"
      footer={
        <Link className="text-brand-600 underline" to="/login">
          Back to log in
        </Link>
      }
    >
      {request.isSuccess ? (
        <p role="status" className="text-sm">
          If an account uses that address, we sent it a link to reset the password.
        </p>
      ) : (
        <form
          className="flex flex-col gap-3"
          onSubmit={(event) => request.mutate(formValues(event).email ?? '')}
        >
          <Field
            label="Email"
            name="email"
            type="email"
            autoComplete="email"
            required
            error={fieldError(request.error, 'email')}
          />
          <ErrorNote error={formError(request.error, ['email'])} />
          <Button type="submit" disabled={request.isPending}>
            Email me a link
          </Button>
        </form>
      )}
    </AuthFrame>
  );
}
