/**
 * Where the console keeps its tokens (README, "Token storage"): the access token only in memory, the refresh token
 * in sessionStorage, which this tab alone can read and which is gone when the tab closes. A reload signs the tab in
 * again with one refresh; another tab signs in on its own. Nothing is in a cookie or in localStorage.
 */
const REFRESH_KEY = 'dashboard.refresh';

let accessToken: string | null = null;

export const session = {
  access: () => accessToken,
  refresh: () => sessionStorage.getItem(REFRESH_KEY),
  store(pair: { accessToken: string; refreshToken: string }) {
    accessToken = pair.accessToken;
    sessionStorage.setItem(REFRESH_KEY, pair.refreshToken);
  },
  clear() {
    accessToken = null;
    sessionStorage.removeItem(REFRESH_KEY);
  },
};
