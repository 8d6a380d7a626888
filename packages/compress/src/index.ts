/**
 * @sparq/compress (work in progress).
 * @packageDocumentation
 */
export {};
