export * from './parser.ts';
export * from './shell-lex.ts';
export * from './instructions.ts';
