// The store's ids and records now live in its port; re-exported here for existing imports.
export type * from "../ports/store-records.js";
