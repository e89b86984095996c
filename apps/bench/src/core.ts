/** The GLA math bench uses, all from @gla/core (one import site, so call sites stay uniform). */
export * from '@gla/core';
