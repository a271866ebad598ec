import { Link } from 'react-router';
import { PageTitle } from '../components/ui.tsx';

export default function NotFound() {
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <p className="text-sm">
        Nothing lives here.{' '}
        <Link className="text-brand-600 underline" to="/">
          Back to the dashboard
        </Link>
      </p>
    </>
  );
}
