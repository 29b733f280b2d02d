import { useTidemark } from '@tidemark/sdk/react';
import { useEffect, useState } from 'react';

/** The events this app sends, so that `track()` checks their names and properties. */
type ShopEvents = {
  'Plan Selected': { plan: string; price: number };
};

const plans = [
  { id: 'hobby', name: 'Hobby', price: 0 },
  { id: 'team', name: 'Team', price: 49 },
  { id: 'scale', name: 'Scale', price: 299 },
] as const;

/** The current path, following pushState navigation and the back button: a client-side router in miniature. */
function usePath(): [string, (path: string) => void] {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const navigate = (to: string) => {
    history.pushState(null, '', to);
    setPath(to);
  };
  return [path, navigate];
}

export function App() {
  // Page views need no code: the SDK sends one on load and one per client-side navigation.
  const tidemark = useTidemark<ShopEvents>();
  const [chosen, setChosen] = useState<string>();
  const [path, navigate] = usePath();

  return (
    <main
      style={{
        fontFamily: 'system-ui, sans-serif',
        maxWidth: '40rem',
        margin: '0 auto',
        padding: '2rem 1rem',
      }}
    >
      <nav style={{ display: 'flex', gap: '1rem' }}>
        <a
          href="/"
          onClick={(event) => {
            event.preventDefault();
            navigate('/');
          }}
        >
          Plans
        </a>
        <a
          href="/faq"
          onClick={(event) => {
            event.preventDefault();
            navigate('/faq');
          }}
        >
          FAQ
        </a>
      </nav>
      {path === '/faq' ? (
        <>
          <h1>Questions</h1>
          <p>Every plan keeps every event: nothing is sampled.</p>
        </>
      ) : (
        <>
          <h1>Pick a plan</h1>
          <ul style={{ listStyle: 'none', padding: 0, display: 'grid', gap: '0.75rem' }}>
            {plans.map((plan) => (
              <li key={plan.id}>
                <button
                  type="button"
                  data-plan={plan.id}
                  onClick={() => {
                    tidemark.track('Plan Selected', { plan: plan.id, price: plan.price });
                    setChosen(plan.name);
                  }}
                >
                  {plan.name} — ${plan.price}/month
                </button>
              </li>
            ))}
          </ul>
          <p role="status">{chosen ? `You picked ${chosen}.` : 'No plan picked yet.'}</p>
        </>
      )}
    </main>
  );
}
