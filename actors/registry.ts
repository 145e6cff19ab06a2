/**
 * Every actor kind the workers host: name → module (default export: ActorKind). Each worker
 * imports all of them at start. The mailbox actor joins with the store.
 */
export const ACTOR_KINDS: Record<string, string> = {
  health: new URL('./health/health-actor.js', import.meta.url).href,
};
