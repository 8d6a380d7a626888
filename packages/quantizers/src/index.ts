/**
 * @sparq/quantizers (work in progress).
 * @packageDocumentation
 */
export {};
