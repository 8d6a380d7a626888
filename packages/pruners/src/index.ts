/**
 * @sparq/pruners (work in progress).
 * @packageDocumentation
 */
export {};
