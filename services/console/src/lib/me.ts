import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** The signed-in principal, as GET /api/me tells it. */
export interface Me {
  name: string;
  role: 'viewer' | 'manager';
  via: 'token' | 'local-token' | 'proxy';
}

export const MeContext = createContext<Me | null>(null);

/** Manager controls are only offered to managers; the server refuses them to anyone else anyway. */
export function useIsManager(): boolean {
  return useContext(MeContext)?.role === 'manager';
}
