// The dashboard: a Fastify plugin over a store (mount it beside an API), and the `ui` server around it.
export { CONTENT_SECURITY_POLICY, type DashboardOptions, dashboardPlugin } from "./plugin.js";
export {
  type Dashboard,
  DEFAULT_LISTEN,
  isLoopback,
  type ListenAddress,
  parseListen,
  readToken,
  startDashboard,
  TOKEN_ENV,
} from "./server.js";
