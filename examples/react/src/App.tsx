import { useTidemark } from '@tidemark/sdk/react';
import { useEffect, useState } from 'react';

const plans = [
  { id: 'hobby', name: 'Hobby', price: 0 },
  { id: 'team', name: 'Team', price: 49 },
  { id: 'scale', name: 'Scale', price: 299 },
] as const;

export function App() {
  const tidemark = useTidemark();
  const [chosen, setChosen] = useState<string>();

  // One page view per mount of the app; the SDK owns the URL and title.
  useEffect(() => {
    tidemark.page();
  }, [tidemark]);

  return (
    <main
      style={{
        fontFamily: 'system-ui, sans-serif',
        maxWidth: '40rem',
        margin: '0 auto',
        padding: '2rem 1rem',
      }}
    >
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
    </main>
  );
}
