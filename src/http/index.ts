// HTTP pieces shared by the dashboard and the service: listening addresses and binding.
export { isLoopback, type ListenAddress, listenAt, parseListen } from "./listen.js";
