// tsyringe, without reflect-metadata. tsyringe refuses to load unless a Reflect metadata API exists,
// because its decorators (@injectable, @inject) read constructor parameter types through it. The
// kernel uses no decorator: every registration is an instance or a factory under a symbol, which
// never reads metadata. So instead of the reflect-metadata polyfill (a dependency and a global
// import every entry point would need), the one function tsyringe checks for is stubbed when absent.
// A program that loads reflect-metadata itself (to use decorators) replaces the stub.
import './reflect-metadata-stub.js';

export { container, type DependencyContainer } from 'tsyringe';
