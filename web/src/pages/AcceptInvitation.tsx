import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { api, unwrap } from '../api/client.ts';
import { buttonClass, Card, ErrorNote, Loading, PageTitle } from '../components/ui.tsx';
import { useSwitchOrg } from '../lib/session.ts';

/** The emailed invitation, accepted by the signed-in (and verified) invited address. */
export default function AcceptInvitation() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const switchOrg = useSwitchOrg();
  const accepted = useQuery({
    queryKey: ['accept-invitation', token],
    queryFn: () => unwrap(api.invitations.accept.$post({ json: { token } })),
    enabled: token !== '',
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  return (
    <>
      <PageTitle>Invitation</PageTitle>
      <Card>
        {!token && <ErrorNote error="This link has no token. Open the link from the email again." />}
        {token && accepted.isPending && <Loading label="Joining…" />}
        <ErrorNote error={accepted.error} />
        {accepted.data && (
          <div className="flex flex-wrap items-center gap-3">
            <p className="text-sm">
              You joined as <strong>{accepted.data.role}</strong>.
            </p>
            <Link to="/" className={buttonClass()} onClick={() => switchOrg(accepted.data.org_id)}>
              Go to the organization
            </Link>
          </div>
        )}
      </Card>
    </>
  );
}
