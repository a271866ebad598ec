import { useRouteError } from 'react-router';
import { Button, ErrorNote, PageTitle } from './ui.tsx';

/**
 * A screen that failed to load or render, shown inside the layout so the navigation still works. The
 * usual cause after a release is a page chunk that no longer exists: reloading fetches the new one.
 */
export function PageError() {
  const error = useRouteError();
  return (
    <>
      <PageTitle>This page could not be shown</PageTitle>
      <ErrorNote error={error} />
      <p className="mt-3 text-sm">Reloading usually helps. Your deployments and balance are not affected.</p>
      <Button className="mt-3" onClick={() => window.location.reload()}>
        Reload
      </Button>
    </>
  );
}
