// (to be filled)
export {};
