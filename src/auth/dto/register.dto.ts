import { EmailField, NameField, PasswordField } from '../../users/dto/user-fields.js';

export class RegisterDto {
  @EmailField()
  email!: string;

  @PasswordField()
  password!: string;

  @NameField()
  name?: string | null;
}
