import * as Label from '@radix-ui/react-label';
import type { ButtonHTMLAttributes, InputHTMLAttributes, ReactNode } from 'react';
import { useId } from 'react';
import { ApiError } from '../api/client.ts';

const cx = (...classes: (string | false | null | undefined)[]) => classes.filter(Boolean).join(' ');

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & { variant?: 'primary' | 'secondary' | 'danger' };

/** A button's look, for a link that navigates (a button inside a link is invalid and read twice). */
export function buttonClass(variant: ButtonProps['variant'] = 'primary', className?: string) {
  const styles = {
    primary: 'bg-brand-600 text-white hover:bg-brand-700',
    secondary:
      'border border-slate-300 bg-white text-slate-800 hover:bg-slate-100 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100 dark:hover:bg-slate-800',
    danger: 'bg-red-600 text-white hover:bg-red-700',
  }[variant];
  return cx(
    'inline-flex items-center justify-center gap-2 rounded-md px-3 py-2 text-sm font-medium disabled:cursor-not-allowed disabled:opacity-50',
    styles,
    className,
  );
}

export function Button({ variant = 'primary', className, ...props }: ButtonProps) {
  return <button type="button" className={buttonClass(variant, className)} {...props} />;
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  error?: string | null;
  hint?: string;
};

/** A labelled input with its hint and the API's message when that field was refused. */
export function Field({ label, error, hint, className, ...props }: FieldProps) {
  const id = useId();
  return (
    <div className={cx('flex flex-col gap-1', className)}>
      <Label.Root htmlFor={id} className="text-sm font-medium">
        {label}
      </Label.Root>
      <input
        id={id}
        aria-invalid={Boolean(error)}
        aria-describedby={error || hint ? `${id}-note` : undefined}
        className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900"
        {...props}
      />
      {(error || hint) && (
        <p
          id={`${id}-note`}
          className={cx('text-xs', error ? 'text-red-600 dark:text-red-400' : 'text-slate-500')}
        >
          {error ?? hint}
        </p>
      )}
    </div>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section
      className={cx(
        'min-w-0 rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900',
        className,
      )}
    >
      {(title || actions) && (
        <header className="mb-3 flex flex-wrap items-center justify-between gap-2">
          {title && <h2 className="text-base font-semibold">{title}</h2>}
          {actions}
        </header>
      )}
      {children}
    </section>
  );
}

export function Badge({
  children,
  tone = 'slate',
}: {
  children: ReactNode;
  tone?: 'slate' | 'green' | 'amber' | 'red' | 'blue';
}) {
  const tones = {
    slate: 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300',
    green: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300',
    amber: 'bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300',
    red: 'bg-red-100 text-red-800 dark:bg-red-900/50 dark:text-red-300',
    blue: 'bg-sky-100 text-sky-800 dark:bg-sky-900/50 dark:text-sky-300',
  }[tone];
  return (
    <span className={cx('inline-flex rounded-full px-2 py-0.5 text-xs font-medium', tones)}>{children}</span>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" className="text-sm text-slate-600 dark:text-slate-400">
      {label}
    </p>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p
      role="alert"
      className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300"
    >
      {message}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="py-6 text-center text-sm text-slate-500">{children}</p>;
}

/** The message for a field when the API refused the request because of it. */
export const fieldError = (error: unknown, param: string) =>
  error instanceof ApiError && error.param === param ? error.message : null;

/** The error to show for the whole form: null when it is already shown under one of `fields`. */
export const formError = (error: unknown, fields: readonly string[]) =>
  error && !fields.some((param) => fieldError(error, param)) ? error : null;

/** A table that scrolls sideways on a narrow screen, reachable by keyboard to do so. */
export function ScrollTable({ label, children }: { label: string; children: ReactNode }) {
  return (
    <section
      className="overflow-x-auto"
      aria-label={label}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable table must be reachable by keyboard
      tabIndex={0}
    >
      <table className="w-full text-left text-sm">{children}</table>
    </section>
  );
}

export function PageTitle({ children, actions }: { children: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
      <h1 className="text-2xl font-semibold tracking-tight">{children}</h1>
      {actions}
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  return (
    <Button
      variant="secondary"
      aria-label={`${label} to clipboard`}
      onClick={(event) => {
        const button = event.currentTarget;
        void navigator.clipboard.writeText(text).then(() => {
          button.textContent = 'Copied';
          setTimeout(() => {
            button.textContent = label;
          }, 1500);
        });
      }}
    >
      {label}
    </Button>
  );
}

export { cx };
