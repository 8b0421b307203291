import { ApolloProvider } from '@apollo/client/react';
import { StrictMode, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createApollo } from './apollo';
import type { Role } from './gql/graphql';
import { Layout } from './Layout';
import { forgetToken, roleOf, SessionContext, storedToken, storeToken } from './session';
import { SignIn } from './pages/SignIn';
import './styles.css';

function App() {
  const [signedIn, setSignedIn] = useState<{ token: string; role: Role } | null>(null);
  const [checking, setChecking] = useState(() => storedToken() !== null);

  // A token kept from earlier in this tab's session: Herald tells its role, or that it is no longer valid.
  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    roleOf(token)
      .then((role) => setSignedIn({ token, role }))
      .catch(() => forgetToken())
      .finally(() => setChecking(false));
  }, []);

  const apollo = useMemo(() => (signedIn ? createApollo(signedIn.token, () => signOut()) : null), [signedIn]);
  useEffect(() => () => apollo?.dispose(), [apollo]);

  function signOut() {
    forgetToken();
    setSignedIn(null);
  }

  if (checking) return null;
  if (!signedIn || !apollo) {
    return (
      <SignIn
        onSignedIn={(token, role) => {
          storeToken(token);
          setSignedIn({ token, role });
        }}
      />
    );
  }
  return (
    <ApolloProvider client={apollo.client}>
      <SessionContext.Provider value={{ role: signedIn.role, signOut }}>
        <Layout />
      </SessionContext.Provider>
    </ApolloProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
