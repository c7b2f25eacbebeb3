import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { login } from './login';
import { logout } from './logout';
import { mfaSignIn } from '../mfa/sign-in';
import { refresh } from './refresh';
import { register } from './register';

export const authRoutes = new OpenAPIHono<AppEnv>().route('/', register).route('/', login).route('/', refresh).route('/', logout).route('/', mfaSignIn);
