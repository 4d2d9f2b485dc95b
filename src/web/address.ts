// Where the dashboard listens by default and the variable holding its token: constants the `ui` command's
// help names without loading the server.
export const DEFAULT_LISTEN = "127.0.0.1:8765";
/** Environment variable holding the dashboard's token. */
export const TOKEN_ENV = "SWE_SELFPLAY_UI_TOKEN";
