/** More core layers (being written). */
export {};
