import { print } from 'graphql';
import { createContext, useContext } from 'react';
import type { Role } from './gql/graphql';
import { ME } from './operations';

// The token lives for this browser tab's session only, and never in a URL.
const TOKEN_KEY = 'herald.token';

export const storedToken = () => sessionStorage.getItem(TOKEN_KEY);
export const storeToken = (token: string) => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);

/** The role Herald gives a token; rejects with a message for the sign-in form otherwise. */
export async function roleOf(token: string): Promise<Role> {
  let body: { data?: { me?: { role: Role } }; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: print(ME) }),
    });
    body = await res.json();
  } catch {
    throw new Error('Herald cannot be reached');
  }
  if (body.data?.me) return body.data.me.role;
  const error = body.errors?.[0];
  throw new Error(error?.extensions?.code === 'UNAUTHENTICATED' ? 'Herald does not accept this token' : (error?.message ?? 'sign-in failed'));
}

export type Session = { role: Role; signOut: () => void };

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

/** Viewers see everything and no write buttons. */
export const useCanWrite = () => useSession().role === 'ADMIN';
